"""The Reconstructions & samples page's tabs, one module each: reconstructions, prior samples, traversals,
interpolation. Each `show(run)` draws its tab for a trained run."""

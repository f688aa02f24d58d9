"""One reader per input format; `vae_core.data` is the public entry point that picks among them."""

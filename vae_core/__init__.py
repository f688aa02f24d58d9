"""VAE Explorer's engine: data, models, losses, training, analysis and checkpoints. Never imports Streamlit."""

__version__ = "0.1.0"

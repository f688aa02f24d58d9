"""VAE Explorer's Streamlit dashboard: thin pages over vae_core."""

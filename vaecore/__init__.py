"""vaecore: the small VAE toolkit behind the VAE book."""

"""The latent explorer: a checkpoint's or the live generator's z or w space."""

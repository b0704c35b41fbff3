"""Analysis and export: MS-SWD, latent math, principal directions, images and videos."""

"""The Dataset page: choosing and importing the images a run trains on."""

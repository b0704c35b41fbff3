"""Training: the loop (trainer.py), one step (step.py) and what it is made of; see each module's docstring."""

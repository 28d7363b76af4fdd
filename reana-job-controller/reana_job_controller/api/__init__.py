"""REST blueprints of the job controller."""

"""What ``samseg_train`` uses when a flag is not given (no heavy imports: ``--help`` shows it)."""

DEFAULT_TRAINER = "SAMLoRATrainer"
DEFAULT_PLANS = "samsegPlans"

"""samseg's trainers, one module per method; ``-tr NAME`` picks one by class name.

Nothing is imported here: :mod:`samseg.training.registry` reads these files' source to find
the class and imports only the module that defines it.
"""

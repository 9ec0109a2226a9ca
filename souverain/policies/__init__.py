"""Built-in Rego policy packs, their tests, and packs.yaml (when each pack applies).

A package only so that the .rego and .yaml files are installed with Souverain and found through
importlib.resources; souverain.policy.engine loads them.
"""

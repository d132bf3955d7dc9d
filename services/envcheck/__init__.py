"""The environment doctor: checks of the machine, each a function of an injected Probe.

Import what you need from the modules (`runner.run_checks`, `model.CheckResult`); this package
imports nothing on its own so the window can load the panel cheaply.
"""

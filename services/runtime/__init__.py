"""Where jobs run: a Runtime (interpreter and packages) and Executors that start a job on one.

Every child process QuantDesk starts is started through `services.runtime.process`.
"""

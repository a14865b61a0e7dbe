"""Word lists the demo generator draws from, written for this project.

Everything here is plain data (Russian names, Moscow places, the operator's
catalogue, what subscribers write and what agents answer). Nothing is
downloaded or copied from a dataset.
"""

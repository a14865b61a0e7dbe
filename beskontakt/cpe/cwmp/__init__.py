"""CWMP (TR-069) protocol code: messages, SOAP envelopes, authentication, sessions, the ACS's ASGI front.

Plain Python on lxml — no Django here (a test checks it), so the protocol can be tested
and benchmarked alone. ``messages`` and ``envelope`` are shared with the CPE simulator;
``session.SessionBackend`` is where the Django side plugs in; ``memory.MemoryBackend``
runs the ACS without a database.
"""

"""SNMP polling of access-network nodes (pysnmp 7, asyncio); plain Python, no Django.

``client.poll_node`` / ``client.poll_many`` read IF-MIB interface counters and state;
``counters`` turns two readings into rates and utilisation, handling wraps and resets.
"""

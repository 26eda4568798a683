"""Simulated charging stations and vehicles: the device under test in CI, and a peer for CSMS
vendors. Usable on their own, without the harness's runner."""

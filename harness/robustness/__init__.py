"""Malformed and edge-case requests for a DUT (the ``robustness`` suite's ``fuzz`` step).

:func:`generate_probes` turns a seed into a list of :class:`Probe`: a frame to send, the id
its answer must carry, and every acceptable answer. Generation uses hypothesis with a fixed
seed, so the same seed (and hypothesis version) gives the same frames::

    probes = generate_probes(version="1.6", seed=7, count=40, context=StationContext())
    for probe in probes:
        outcome = await endpoint.call_raw(probe.frame, answer_id=probe.answer_id, timeout_s=10)
        problem = probe.judge(error_code=outcome.error_code, payload=outcome.payload)
"""

from harness.robustness.probes import Probe, fuzz_actions, generate_probes

__all__ = ["Probe", "fuzz_actions", "generate_probes"]

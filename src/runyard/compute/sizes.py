"""VM sizes: the node shape (CPUs, GPUs, memory) a ``vm_size`` name stands for.

``AmlCompute.provisioning_configuration(vm_size=...)`` takes the Azure names SDK v1 code
uses (``STANDARD_NC6``, ``Standard_D2_v3``: case and the ``STANDARD_`` prefix do not
matter) and generic names (``cpu-4``, ``gpu-1``). The table below is the documented list
(docs/compute.md shows it); an unknown name is an error that lists the known ones.

Figures are Azure's published vCPU, memory (GiB) and GPU counts for each size.
"""

from __future__ import annotations

from dataclasses import dataclass

from runyard.errors import InvalidArgument


@dataclass(frozen=True)
class NodeShape:
    """What one node of a size offers.

    Attributes:
        name: the canonical size name (``STANDARD_NC6``, ``cpu-4``).
        cpus: virtual CPUs.
        gpus: GPUs.
        memory_gb: memory in GiB.
        gpu_model: the GPU model, for people reading ``get_status()`` (None: no GPU).
    """

    name: str
    cpus: int
    gpus: int
    memory_gb: float
    gpu_model: str | None = None

    def describe(self) -> str:
        """``6 CPUs, 56 GiB, 1 GPU (K80)``."""
        gpu = "no GPU"
        if self.gpus:
            gpu = f"{self.gpus} GPU{'s' if self.gpus > 1 else ''}"
            if self.gpu_model:
                gpu += f" ({self.gpu_model})"
        return f"{self.cpus} CPUs, {self.memory_gb:g} GiB, {gpu}"


def _azure(rows: list[tuple[str, int, float, int, str | None]]) -> dict[str, NodeShape]:
    return {
        f"STANDARD_{name}": NodeShape(f"STANDARD_{name}", cpus, gpus, memory, model)
        for name, cpus, memory, gpus, model in rows
    }


# (name without STANDARD_, vCPUs, memory GiB, GPUs, GPU model)
_AZURE_ROWS: list[tuple[str, int, float, int, str | None]] = [
    # D v2 / DS v2: general purpose
    ("D1_V2", 1, 3.5, 0, None),
    ("D2_V2", 2, 7, 0, None),
    ("D3_V2", 4, 14, 0, None),
    ("D4_V2", 8, 28, 0, None),
    ("D5_V2", 16, 56, 0, None),
    ("D11_V2", 2, 14, 0, None),
    ("D12_V2", 4, 28, 0, None),
    ("D13_V2", 8, 56, 0, None),
    ("D14_V2", 16, 112, 0, None),
    ("DS1_V2", 1, 3.5, 0, None),
    ("DS2_V2", 2, 7, 0, None),
    ("DS3_V2", 4, 14, 0, None),
    ("DS4_V2", 8, 28, 0, None),
    ("DS5_V2", 16, 56, 0, None),
    ("DS11_V2", 2, 14, 0, None),
    ("DS12_V2", 4, 28, 0, None),
    ("DS13_V2", 8, 56, 0, None),
    ("DS14_V2", 16, 112, 0, None),
    # D v3 / Ds v3
    ("D2_V3", 2, 8, 0, None),
    ("D4_V3", 4, 16, 0, None),
    ("D8_V3", 8, 32, 0, None),
    ("D16_V3", 16, 64, 0, None),
    ("D32_V3", 32, 128, 0, None),
    ("D64_V3", 64, 256, 0, None),
    ("D2S_V3", 2, 8, 0, None),
    ("D4S_V3", 4, 16, 0, None),
    ("D8S_V3", 8, 32, 0, None),
    ("D16S_V3", 16, 64, 0, None),
    ("D32S_V3", 32, 128, 0, None),
    ("D64S_V3", 64, 256, 0, None),
    # F / Fs v2: compute optimised
    ("F1", 1, 2, 0, None),
    ("F2", 2, 4, 0, None),
    ("F4", 4, 8, 0, None),
    ("F8", 8, 16, 0, None),
    ("F16", 16, 32, 0, None),
    ("F2S_V2", 2, 4, 0, None),
    ("F4S_V2", 4, 8, 0, None),
    ("F8S_V2", 8, 16, 0, None),
    ("F16S_V2", 16, 32, 0, None),
    ("F32S_V2", 32, 64, 0, None),
    ("F64S_V2", 64, 128, 0, None),
    ("F72S_V2", 72, 144, 0, None),
    # NC: K80, P100 (v2), V100 (v3), T4, A100
    ("NC6", 6, 56, 1, "K80"),
    ("NC12", 12, 112, 2, "K80"),
    ("NC24", 24, 224, 4, "K80"),
    ("NC24R", 24, 224, 4, "K80"),
    ("NC6S_V2", 6, 112, 1, "P100"),
    ("NC12S_V2", 12, 224, 2, "P100"),
    ("NC24S_V2", 24, 448, 4, "P100"),
    ("NC24RS_V2", 24, 448, 4, "P100"),
    ("NC6S_V3", 6, 112, 1, "V100"),
    ("NC12S_V3", 12, 224, 2, "V100"),
    ("NC24S_V3", 24, 448, 4, "V100"),
    ("NC24RS_V3", 24, 448, 4, "V100"),
    ("NC4AS_T4_V3", 4, 28, 1, "T4"),
    ("NC8AS_T4_V3", 8, 56, 1, "T4"),
    ("NC16AS_T4_V3", 16, 110, 1, "T4"),
    ("NC64AS_T4_V3", 64, 440, 4, "T4"),
    ("NC24ADS_A100_V4", 24, 220, 1, "A100"),
    ("NC48ADS_A100_V4", 48, 440, 2, "A100"),
    ("NC96ADS_A100_V4", 96, 880, 4, "A100"),
    # ND: P40, V100 (v2), A100 (v4)
    ("ND6S", 6, 112, 1, "P40"),
    ("ND12S", 12, 224, 2, "P40"),
    ("ND24S", 24, 448, 4, "P40"),
    ("ND24RS", 24, 448, 4, "P40"),
    ("ND40RS_V2", 40, 672, 8, "V100"),
    ("ND96ASR_V4", 96, 900, 8, "A100"),
    ("ND96AMSR_A100_V4", 96, 1900, 8, "A100 80GB"),
    # NV: M60, M60 (v3)
    ("NV6", 6, 56, 1, "M60"),
    ("NV12", 12, 112, 2, "M60"),
    ("NV24", 24, 224, 4, "M60"),
    ("NV12S_V3", 12, 112, 1, "M60"),
    ("NV24S_V3", 24, 224, 2, "M60"),
    ("NV48S_V3", 48, 448, 4, "M60"),
]

# Generic sizes: cpu-N has N CPUs and 4 GiB per CPU; gpu-N has N GPUs, 6 CPUs and 56 GiB
# per GPU (the shape of an NC6 per GPU).
_GENERIC: dict[str, NodeShape] = {
    **{f"cpu-{n}": NodeShape(f"cpu-{n}", n, 0, 4.0 * n) for n in (1, 2, 4, 8, 16, 32, 64)},
    **{f"gpu-{n}": NodeShape(f"gpu-{n}", 6 * n, n, 56.0 * n) for n in (1, 2, 4, 8)},
}

VM_SIZES: dict[str, NodeShape] = {**_GENERIC, **_azure(_AZURE_ROWS)}


def canonical_size_name(vm_size: str) -> str:
    """``Standard_nc6`` -> ``STANDARD_NC6``; ``CPU-4`` -> ``cpu-4``."""
    name = vm_size.strip()
    if name.lower() in _GENERIC:
        return name.lower()
    upper = name.upper()
    return upper if upper.startswith("STANDARD_") else f"STANDARD_{upper}"


def lookup_vm_size(vm_size: str) -> NodeShape:
    """The node shape of ``vm_size``.

    Args:
        vm_size: an Azure size (``STANDARD_NC6``, ``Standard_D2_v3``, ``NC6``) or a generic
            one (``cpu-4``, ``gpu-1``); case does not matter.

    Raises:
        InvalidArgument: not a string, or not a known size (the message lists them).
    """
    if not isinstance(vm_size, str) or not vm_size.strip():
        raise InvalidArgument(
            f"vm_size must be a size name such as 'cpu-4' or 'STANDARD_NC6', got {vm_size!r}."
        )
    shape = VM_SIZES.get(canonical_size_name(vm_size))
    if shape is None:
        raise InvalidArgument(
            f"Unknown vm_size {vm_size!r}. Known sizes: {', '.join(known_size_names())}. "
            "See docs/compute.md for what each one offers."
        )
    return shape


def known_size_names() -> list[str]:
    """Every known size name: the generic ones first, then Azure's, in table order."""
    return list(VM_SIZES)

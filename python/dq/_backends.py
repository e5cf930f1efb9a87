"""dq.backends(): the plugins the core found, their devices and why one is unusable."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

from ._lib import BackendInfo, DeviceInfo, check, context, lib, text


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    is_gpu: bool
    total_memory: int
    free_memory: int


@dataclass(frozen=True)
class Backend:
    name: str
    loaded: bool
    description: str
    path: str
    abi: tuple[int, int]
    status: str  # why it failed to load or has no device; "" when fine
    devices: list[Device] = field(default_factory=list)


def version() -> str:
    """libdq-core's version string."""
    return text(lib.dq_version_string())


def backends() -> list[Backend]:
    """Backends found (loaded or refused), in search order, each with its devices."""
    ctx = context()
    out = []
    for b in range(lib.dq_backend_count(ctx)):
        info = BackendInfo(struct_size=ctypes.sizeof(BackendInfo))
        check(lib.dq_backend_get_info(ctx, b, ctypes.byref(info)), ctx, "backends")
        devices = []
        for d in range(max(0, info.device_count) if info.loaded else 0):
            dev = DeviceInfo(struct_size=ctypes.sizeof(DeviceInfo))
            if lib.dq_backend_get_device(ctx, b, d, ctypes.byref(dev)) == 0:
                devices.append(Device(d, text(dev.name), bool(dev.is_gpu),
                                      int(dev.total_memory), int(dev.free_memory)))
        out.append(Backend(text(info.name), bool(info.loaded), text(info.description),
                           text(info.path), (info.abi_major, info.abi_minor),
                           text(info.status), devices))
    return out


def device_info(backend: str, device: int) -> Device | None:
    """One device of a backend, with its memory now; None when absent."""
    ctx = context()
    b = lib.dq_backend_find(ctx, backend.encode())
    if b < 0:
        return None
    dev = DeviceInfo(struct_size=ctypes.sizeof(DeviceInfo))
    if lib.dq_backend_get_device(ctx, b, device, ctypes.byref(dev)) != 0:
        return None
    return Device(device, text(dev.name), bool(dev.is_gpu), int(dev.total_memory),
                  int(dev.free_memory))

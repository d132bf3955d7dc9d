"""Samplers for NVIDIA GPUs (NVML) and the host (psutil) into ring buffers."""

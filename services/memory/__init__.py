"""The memory planner: weights, KV cache per policy and engine, what fits on a GPU."""
from services.memory.kv import KV_POLICIES, kv_bytes_per_token
from services.memory.planner import ENGINES, Plan, PlanRequest, make_plan
from services.memory.weights import WEIGHT_FORMATS, weight_bytes

__all__ = ["ENGINES", "KV_POLICIES", "WEIGHT_FORMATS", "Plan", "PlanRequest", "kv_bytes_per_token",
           "make_plan", "weight_bytes"]

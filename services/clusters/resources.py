"""What a cluster offers (Ray's per-node resources), in the terms pre-flight plans with."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from services.messages import msg

GIB = 1024**3


@dataclass
class Node:
    ip: str
    cpus: float
    gpus: float
    memory: int  # bytes Ray may schedule on the node
    gpu_type: str = ""  # from Ray's accelerator_type:<name> resource
    head: bool = False


@dataclass
class ClusterResources:
    nodes: list[Node] = field(default_factory=list)

    @classmethod
    def from_answer(cls, answer: dict) -> ClusterResources:
        nodes = []
        for n in answer.get("nodes") or []:
            if str(n.get("state", "ALIVE")).upper() != "ALIVE":
                continue
            r = n.get("resources") or {}
            kinds = [k.split(":", 1)[1] for k in r if k.startswith("accelerator_type:")]
            nodes.append(Node(str(n.get("ip", "")), float(r.get("CPU", 0)), float(r.get("GPU", 0)),
                              int(r.get("memory", 0)), kinds[0] if kinds else "", bool(n.get("head"))))
        return cls(nodes)

    @property
    def gpus(self) -> float:
        return sum(n.gpus for n in self.nodes)

    @property
    def cpus(self) -> float:
        return sum(n.cpus for n in self.nodes)

    def largest_memory(self, with_gpu: bool = False) -> int:
        """The most memory one node offers (of the GPU nodes with `with_gpu`): a job runs on one node."""
        mem = [n.memory for n in self.nodes if n.gpus > 0 or not with_gpu]
        return max(mem, default=0)

    def summary(self) -> str:
        types = sorted({n.gpu_type for n in self.nodes if n.gpu_type})
        args = dict(nodes=len(self.nodes), cpus=self.cpus, gpus=self.gpus, gib=self.largest_memory() / GIB)
        if types:
            return msg("{nodes} node(s), {cpus:g} CPU, {gpus:g} GPU ({types}), largest node {gib:.1f} GiB",
                       types=", ".join(types), **args)
        return msg("{nodes} node(s), {cpus:g} CPU, {gpus:g} GPU, largest node {gib:.1f} GiB", **args)

    def to_dict(self) -> dict:
        return {"nodes": [asdict(n) for n in self.nodes], "cpus": self.cpus, "gpus": self.gpus,
                "largest_node_memory": self.largest_memory(), "summary": self.summary()}

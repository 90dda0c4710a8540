"""Who subscribed to what: a topic trie, so matching costs the depth of a topic, not the
number of subscribers (a hall has a few hundred devices, each with several filters)."""
from __future__ import annotations


class Node:
    __slots__ = ("children", "subs")

    def __init__(self):
        self.children: dict[str, Node] = {}
        self.subs: dict[str, int] = {}   # client id -> granted QoS


class Subscriptions:
    """A topic trie: matching costs the depth of the topic, not the number of subscribers."""

    def __init__(self):
        self.root = Node()

    def add(self, filt: str, client_id: str, qos: int) -> None:
        node = self.root
        for level in filt.split("/"):
            node = node.children.setdefault(level, Node())
        node.subs[client_id] = qos

    def remove(self, filt: str, client_id: str) -> None:
        path = [self.root]
        for level in filt.split("/"):
            nxt = path[-1].children.get(level)
            if nxt is None:
                return
            path.append(nxt)
        path[-1].subs.pop(client_id, None)
        # prune empty branches so a hall with churning devices does not grow a dead tree
        levels = filt.split("/")
        for depth in range(len(levels), 0, -1):
            node = path[depth]
            if node.subs or node.children:
                break
            del path[depth - 1].children[levels[depth - 1]]

    def match(self, topic: str) -> dict[str, int]:
        levels = topic.split("/")
        found: dict[str, int] = {}
        dollar = topic.startswith("$")

        def add(subs: dict[str, int]) -> None:
            for cid, q in subs.items():
                if found.get(cid, -1) < q:
                    found[cid] = q

        def walk(node: Node, i: int) -> None:
            wild = not (dollar and i == 0)
            if wild:
                hash_node = node.children.get("#")
                if hash_node is not None:
                    add(hash_node.subs)    # "a/#" also matches "a"
            if i == len(levels):
                add(node.subs)
                return
            child = node.children.get(levels[i])
            if child is not None:
                walk(child, i + 1)
            if wild:
                plus = node.children.get("+")
                if plus is not None:
                    walk(plus, i + 1)

        walk(self.root, 0)
        return found

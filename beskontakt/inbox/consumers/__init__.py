"""The live sockets: the agent workspace (``agent``) and the subscriber's chat (``chat``)."""

from .agent import AgentConsumer
from .chat import ChatConsumer

__all__ = ["AgentConsumer", "ChatConsumer"]

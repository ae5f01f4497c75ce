"""The chat side: the chat API, its agent runtimes and the local stand-in agent."""

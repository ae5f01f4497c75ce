"""The three Bedrock action groups: scheduling, information and notes."""

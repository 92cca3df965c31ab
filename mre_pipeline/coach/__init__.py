"""The coach: answers racers' questions from the warehouse, for any LLM, over the Model Context Protocol."""

"""The demo city (示例市): generated departments, people and systems, never real ones."""

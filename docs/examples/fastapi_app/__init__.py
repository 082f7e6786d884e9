"""A FastAPI shop whose jobs live in its own database: see README.md."""

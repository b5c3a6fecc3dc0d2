"""Benchmarks of Tỉnh Số: `./dev bench [name]`. Results are recorded in docs/benchmarks.md."""

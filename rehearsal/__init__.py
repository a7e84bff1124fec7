"""The prod deployment graph on one CPU machine (``make prod-cpu``): configs/prod.yaml under the CPU overlay,
the fake providers and a throw-away PostgreSQL, traffic through every deployment, autoscaling up and down, the
metrics scraped by Prometheus and the Ray dashboard loaded in a headless browser. Not part of the wheel."""

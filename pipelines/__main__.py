"""`python -m pipelines` runs the `feedback` command line."""

from pipelines.cli import main

if __name__ == "__main__":
    main()

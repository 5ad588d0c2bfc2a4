"""The `tfnf` command line (`tfnf train | sample | evaluate | export`)."""

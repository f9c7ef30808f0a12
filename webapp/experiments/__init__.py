"""A/B and interleaving experiments on model versions.

The pure statistical core lives here and needs neither the app nor the database:
assignment (GrowthBook-compatible hashing), stats (per-variant frequentist
statistics and the sample-ratio check), bayes (chance to beat control, expected
loss), power (sample size, minimum detectable effect), sequential (always-valid
p-values), results (the results document and the winner rule), cuped (variance
reduction), interleaving (team draft) and simulation (A/A, power, A/B against
interleaving).
"""

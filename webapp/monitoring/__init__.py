"""Live monitoring: served predictions joined with what happened later.

``outcomes`` reads the realised labels of each target (the rules live in
``webapp.learning``), ``joins`` pairs them with the prediction log point in
time, ``quality`` computes the realised figures (scikit-learn), ``reference``
keeps each version's training distribution, ``live_features`` rebuilds the
features of logged pairs, ``drift`` compares the two (PSI, KS, chi-square),
``alerts`` flags what crosses the configured thresholds, ``report`` puts one
type's figures together (cached), ``charts``, ``views`` and ``api`` show them.
"""

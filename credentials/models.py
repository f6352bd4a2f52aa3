# Models arrive with the features that need them.

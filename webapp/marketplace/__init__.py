"""The marketplace: accounts, collaborations and their lifecycle, ratings, proposals, import, demo."""

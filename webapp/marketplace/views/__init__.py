"""The marketplace pages: collaborations, matches and outcomes, one blueprint each."""

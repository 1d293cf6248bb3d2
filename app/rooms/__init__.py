"""Deal rooms: a buyer page per opportunity (the rep's side in service.py, the buyer's in visits.py)."""

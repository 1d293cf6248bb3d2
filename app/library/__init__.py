"""The collateral library: assets and their versions, dimensions' terms and stages, ratings, flags, saved
collections and the manifest import; the rep's pages (`library`), the marketer's (`content`) and
collections (`collect`)."""

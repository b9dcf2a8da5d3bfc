"""Customer segmentation: behaviour metrics, RFM, ABC, value tiers, lifecycle stages, segments."""

"""The columns of a sweep's table (:mod:`wgmfem.sweep`), apart from the sweep itself: the
command line lists the extra quantities in its help without loading the sweep machinery."""

from __future__ import annotations

#: Swept parameter -> its column in the table.
PARAMETERS = {
    "inner_diameter": "inner_diameter_um",
    "outer_diameter": "outer_diameter_um",
    "wall_thickness": "wall_thickness_um",
    "core": "core_index",
    "wall": "wall_index",
}
GEOMETRY_COLUMNS = ("inner_diameter_um", "outer_diameter_um", "wall_thickness_um", "core_index", "wall_index")
MODE_COLUMNS = (
    "pol", "m", "p", "region", "wavelength_nm", "Q_rad", "Q_total", "fsr_nm", "group_index", "fsr_simple_nm",
    "core_fraction", "wall_fraction", "outside_fraction", "hybrid", "confinement_factor", "threshold_gain_per_cm",
    "census_ok",
)
#: Optional per-mode quantities (each costs extra solves) -> column.
EXTRAS = {
    "sensitivity": "sensitivity_nm_per_riu",  # ~1 ms a mode
    "detection_limit": "detection_limit_riu",  # ~1 ms a mode
    "drift": "drift_nm_per_K",  # ~1 ms a mode; needs thermal data
    "lasing_gain": "lasing_gain_per_cm",  # ~15 ms a mode
    "effective_area": "effective_area_um2",  # ~120 ms a mode
}
TRACK_COLUMNS = ("predicted_wavelength_nm", "track_offset_nm")

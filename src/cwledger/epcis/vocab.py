"""CBV 2.0 standard vocabulary as the EPCIS 2.0 JSON-LD context maps it (vendored table).

Taken from the GS1 context ``https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld``
(gs1/EPCIS at 2b888bef, see VENDORED.md): in JSON a standard value is written as a bare word
(``"bizStep": "shipping"``) and stands for ``https://ref.gs1.org/cbv/BizStep-shipping``.
"""

from __future__ import annotations

__all__ = [
    "CBV",
    "GS1_VOC",
    "CONTEXT_URL",
    "CONTEXT_PREFIXES",
    "BIZ_STEPS",
    "DISPOSITIONS",
    "BIZ_TRANSACTION_TYPES",
    "SOURCE_DESTINATION_TYPES",
    "ERROR_REASONS",
    "MEASUREMENT_TYPES",
    "SENSOR_EXCEPTIONS",
    "COMPONENTS",
]

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

# Prefixes the GS1 context itself declares (used to expand compact IRIs in vocabulary values).
CONTEXT_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

BIZ_STEPS = frozenset(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding
    entering_exiting holding inspecting installing killing loading other packing picking
    receiving removing repackaging repairing replacing reserving retail_selling sampling
    sensor_reporting shipping staging_outbound stock_taking stocking storing transporting
    unloading unpacking void_shipping""".split()
)
DISPOSITIONS = frozenset(
    """active available completeness_verified completeness_inferred conformant container_closed
    container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit
    inactive mismatch_instance mismatch_class mismatch_quantity needs_replacement
    no_pedigree_match non_conformant non_sellable_other partially_dispensed recalled reserved
    retail_sold returned sellable_accessible sellable_not_accessible stolen unavailable
    unknown""".split()
)
BIZ_TRANSACTION_TYPES = frozenset(
    "bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt".split()
)
SOURCE_DESTINATION_TYPES = frozenset("owning_party possessing_party location".split())
ERROR_REASONS = frozenset("did_not_occur incorrect_data".split())
MEASUREMENT_TYPES = frozenset(
    """AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude
    AmountOfSubstance AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum
    AngularVelocity Area Capacitance Conductance Conductivity Count Density Dimensionless
    DoseEquivalent DoseEquivalentRate DynamicViscosity ElectricCharge ElectricCurrent
    ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency Illuminance
    Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux
    LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass
    MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy
    MolarMass MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity
    Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension
    Temperature Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux
    Wavenumber""".split()
)
SENSOR_EXCEPTIONS = frozenset(["ALARM_CONDITION", "ERROR_CONDITION"])
COMPONENTS = frozenset(
    """x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting
    northing latitude longitude altitude""".split()
)

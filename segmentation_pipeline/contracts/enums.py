"""Allowed values of the contract's categorical columns (SPEC, landing zone)."""

GENDERS = ["female", "male", "other", "unknown"]
INCOME_BANDS = ["lt_20k", "20k_40k", "40k_70k", "70k_100k", "gt_100k"]
WEB_SAVVINESS = ["low", "average", "high"]
ACQUISITION_CHANNELS = ["campaign", "referral", "search", "social", "store", "partner", "other"]
ORDER_CHANNELS = ["online", "store", "phone"]
ORDER_STATUSES = ["completed", "returned", "cancelled"]
OCCASIONS = ["none", "gift", "holiday", "birthday", "special_event"]
DISCOVERY_CHANNELS = ["campaign", "referral", "search", "social", "store", "press", "other"]
MOTIVATIONS = ["price", "quality", "brand", "service", "convenience", "features", "values", "other"]
BARRIERS = ["price", "missing_feature", "trust", "awareness", "delivery", "payment", "none", "other"]
BRAND_PERCEPTIONS = ["reliable", "innovative", "leader", "average", "outdated", "unknown"]
SOCIAL_PLATFORMS = ["x", "instagram", "facebook", "tiktok", "linkedin", "youtube", "other"]
SERVICE_CHANNELS = ["email", "phone", "chat", "social", "store"]
IMPORTANCE_COLUMNS = [
    "importance_price",
    "importance_brand",
    "importance_reviews",
    "importance_features",
    "importance_service",
]

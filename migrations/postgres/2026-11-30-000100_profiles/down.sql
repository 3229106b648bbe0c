DROP TABLE five_have_records;
DROP TABLE lot_profile_flags;
DROP TABLE profile_storage_points;
DROP TABLE profile_wastes;
DROP TABLE enterprise_profiles;

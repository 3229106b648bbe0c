DROP TABLE thread_photos;
DROP TABLE thread_messages;
DROP TABLE threads;
DROP TABLE patrols;

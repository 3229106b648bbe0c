DROP TABLE lot_label_texts;
DROP TABLE lot_containers;

DROP TABLE wechat_links;

-- WeChat accounts linked to users, for the mini-program's sign-in: one WeChat account (openid,
-- per mini-program appid) per user and one user per WeChat account. WeChat's session_key is
-- never stored: the service reads no data encrypted with it.
CREATE TABLE wechat_links (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    linked_at  TIMESTAMP NOT NULL,
    UNIQUE (appid, openid)
);

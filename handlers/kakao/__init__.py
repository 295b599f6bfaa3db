"""The KakaoTalk channel: Kakao's skill calls become inputs for the engine, replies become skill answers;
the bot speaks first through the Event API; files go as links, uploads through a page of our own."""

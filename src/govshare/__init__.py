"""govshare: 政务信息资源共享交换平台 (government information-resource sharing and exchange platform)."""

__version__ = "0.1.0"

from govshare.cli.main import main

main()

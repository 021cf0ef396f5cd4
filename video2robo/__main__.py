from video2robo.cli import main

raise SystemExit(main())
